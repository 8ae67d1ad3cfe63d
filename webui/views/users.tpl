% rebase('base.tpl', title=_('Users'), back_path='/users')
<h1>{{_('Users')}}</h1>
<p><a class="button" href="/users/new" id="add-user">{{_('Add user')}}</a></p>
<table id="users">
<thead><tr><th>{{_('User name')}}</th><th>{{_('Role')}}</th><th>{{_('Language')}}</th><th>{{_('Enabled')}}</th><th>{{_('Locked')}}</th><th></th></tr></thead>
<tbody>
% import time
% for u in rows:
<tr data-user="{{u.name}}">
<td>{{u.name}}</td><td>{{_(u.role)}}</td><td>{{u.language}}</td>
<td>{{_('yes') if u.enabled else _('no')}}</td>
<td>
% if u.locked_until > time.time():
{{_('yes')}}
<form method="post" action="/users/{{u.id}}/unlock" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button>{{_('Unlock')}}</button></form>
% end
</td>
<td><a href="/users/{{u.id}}/edit">{{_('Edit')}}</a></td>
</tr>
% end
</tbody>
</table>
