% if error is not None:
<div class="error" id="upload-error" role="alert"><p>{{_(error.msgid)}} {{_('Nothing was changed.')}}</p>
% if error.detail:
<small>{{error.detail}}</small>
% end
</div>
% end
