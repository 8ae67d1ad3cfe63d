% rebase('base.tpl', title=_('User'), back_path='/users')
<h1>{{_('User')}} {{u.name}}</h1>
<p>{{_('Password (shown only now; give it to the user):')}}</p>
<p><code class="secret" id="user-password">{{password}}</code></p>
<p><a href="/users">{{_('Back to the list')}}</a></p>
